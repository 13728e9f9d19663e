"""The steps every command chains: answer prompts with a policy, judge the answers, score them."""
