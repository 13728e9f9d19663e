"""Racing judges trajectories only until the pair that exhaustive evaluation picks is predictable."""

import random

import numpy as np
import pytest

from ads_bench.optimizer.cost_tier_selection import Scored, select
from ads_bench.optimizer.racing import Race, exhaustive_selection, select_many


def run_race(matrix, costs, tau=0.0, **kwargs):
    race = Race(costs, len(matrix[0]), tau=tau, **kwargs)
    while not race.done():
        trajectories, instructions = race.next_round()
        for t in trajectories:
            race.observe(t, [matrix[t][i] for i in instructions])
        race.end_round()
    return race


def pair(selection):
    return selection.chosen, selection.rejected


def noisy_matrix(means, h=16, noise=0.05, seed=0):
    rng = random.Random(seed)
    return [[min(1, max(0, m + rng.gauss(0, noise))) for _ in range(h)] for m in means]


def test_clearly_separated_trajectories_are_decided_early_with_far_fewer_evaluations():
    matrix = noisy_matrix([0.9, 0.5, 0.52, 0.48, 0.5, 0.1])
    race = run_race(matrix, [1.0] * 6)
    exhaustive = exhaustive_selection(matrix, [1.0] * 6, 0.0)
    assert pair(race.selection()) == pair(exhaustive) == (0, 5)
    assert race.evaluations() * 3 <= 6 * 16


def test_identical_trajectories_are_not_decided_early():
    matrix = noisy_matrix([0.5, 0.5, 0.5, 0.5], h=12, noise=0.1)
    race = run_race(matrix, [1.0, 2.0, 3.0, 4.0], tau=0.0)
    assert race.next_instruction == 12  # every fresh instruction was used
    assert race.evaluations() >= 3 * 12


def test_identical_trajectories_stop_early_when_costs_decide():
    # tau = 1: every trajectory is in both tiers, so the cheapest is chosen and the dearest
    # rejected whatever the rewards
    matrix = noisy_matrix([0.5, 0.5, 0.5, 0.5], h=12, noise=0.1)
    race = run_race(matrix, [1.0, 2.0, 3.0, 4.0], tau=1.0)
    assert pair(race.selection()) == pair(exhaustive_selection(matrix, [1.0, 2.0, 3.0, 4.0], 1.0)) == (0, 3)
    assert race.evaluations() == 4 * race.min_evaluations


def test_with_cost_tiers_the_cheapest_sure_top_trajectory_stops_dearer_ones():
    matrix = [[0.9] * 12, [0.9] * 12, [0.1] * 12, [0.1] * 12]
    costs = [5.0, 1.0, 1.0, 5.0]
    race = run_race(matrix, costs, tau=0.2)
    assert pair(race.selection()) == pair(exhaustive_selection(matrix, costs, 0.2)) == (1, 3)
    assert race.evaluations() < 4 * 12


def random_rewards(rng, draws, arms):
    """Rewards with frequent exact ties (a coarse grid) and occasional all-equal rows."""
    rewards = rng.integers(0, 5, size=(draws, arms)) / 4
    rewards[rng.random(draws) < 0.05] = 0.5
    return rewards


@pytest.mark.parametrize("tau", [0.0, 0.2, 0.5, 0.7, 1.0])
def test_vectorised_selection_is_select_on_every_draw_ties_included(tau):
    rng = np.random.default_rng(1)
    for arms in (1, 2, 3, 8):
        rewards = random_rewards(rng, 400, arms)
        for continuous in (False, True):
            if continuous:
                rewards = rng.random((400, arms))
            costs = rng.choice([0.0, 0.05, 0.1], size=arms)  # cost ties too
            chosen, rejected = select_many(rewards, costs, tau)
            for row, c, r in zip(rewards, chosen, rejected, strict=True):
                expected = select([Scored(i, float(v), float(costs[i])) for i, v in enumerate(row)], tau)
                assert (expected.chosen, expected.rejected) == (c, None if r < 0 else r)


def test_a_lone_usable_trajectory_is_still_judged_so_that_it_has_a_reward_to_be_chosen_with():
    matrix = [[0.7] * 8, [0.0] * 8]
    race = run_race(matrix, [1.0, 1.0], usable=[True, False])
    assert race.evaluations() == race.min_evaluations
    assert race.selection().chosen == 0 and race.mean(0) == pytest.approx(0.7)


def test_unusable_trajectories_are_never_evaluated_and_never_win():
    matrix = [[0.8] * 8, [0.2] * 8, [0.95] * 8]
    race = Race([1.0, 1.0, 1.0], 8, usable=[True, True, False])
    while not race.done():
        trajectories, instructions = race.next_round()
        assert 2 not in trajectories
        for t in trajectories:
            race.observe(t, [matrix[t][i] for i in instructions])
        race.end_round()
    assert 2 not in race.observed
    assert pair(race.selection()) == (0, 1)


def test_the_same_inputs_give_the_same_evaluations_and_pair():
    matrix = noisy_matrix([0.6, 0.55, 0.5, 0.45, 0.4], noise=0.1, seed=3)
    costs = [0.1, 0.05, 0.0, 0.15, 0.05]
    first = run_race(matrix, costs, tau=0.2)
    second = run_race(matrix, costs, tau=0.2)
    assert first.observed == second.observed
    assert pair(first.selection()) == pair(second.selection())


def test_the_logged_rewards_select_the_race_pair():
    # the trainer selects on Race.mean: it must give the race's own pick, set-aside ones included
    for seed in range(5):
        matrix = noisy_matrix([0.7, 0.6, 0.5, 0.5, 0.3, 0.2], noise=0.15, seed=seed)
        costs = [0.1, 0.05, 0.0, 0.15, 0.05, 0.1]
        race = run_race(matrix, costs, tau=0.2)
        logged = select([Scored(i, race.mean(i), c) for i, c in enumerate(costs)], 0.2)
        assert pair(logged) == pair(race.selection())


def test_without_racing_every_trajectory_gets_every_instruction_and_its_plain_mean():
    # what the trainer does for --no-racing
    matrix = noisy_matrix([0.9, 0.5, 0.1], h=6)
    race = Race([1.0] * 3, 6, round_size=6)
    race.min_evaluations = 7
    while not race.done():
        trajectories, instructions = race.next_round()
        for t in trajectories:
            race.observe(t, [matrix[t][i] for i in instructions])
        race.end_round()
    assert race.evaluations() == 3 * 6
    assert [race.mean(i) for i in range(3)] == [sum(row) / 6 for row in matrix]


def test_a_constant_trajectory_is_settled_by_one_judgment():
    matrix = noisy_matrix([0.8, 0.3, 0.5], h=10, noise=0.1)
    matrix[2] = [0.5] * 10  # acquired nothing: judged as the un-updated policy
    race = run_race(matrix, [0.1, 0.1, 0.0], constant=[False, False, True])
    assert len(race.observed[2]) == 1 and race.mean(2) == 0.5


def test_missing_verdicts_keep_rewards_aligned_with_their_instructions():
    race = Race([1.0, 1.0], 4, round_size=2)
    race.next_round()
    race.observe(0, [0.9, None])
    race.observe(1, [0.1, 0.2])
    assert race.observed == {0: [0.9], 1: [0.1, 0.2]}


def test_a_race_that_stops_early_logs_its_forecast_apart_from_what_was_measured():
    matrix = noisy_matrix([0.9, 0.5, 0.52, 0.48, 0.5, 0.1])
    race = run_race(matrix, [1.0] * 6)
    partly = [i for i in range(6) if len(race.observed[i]) < 16]
    assert partly  # the race skipped some judgments
    for i in range(6):
        fields = race.reward_fields(i)
        judged = race.observed[i]
        assert fields["reward_measured"] == pytest.approx(sum(judged) / len(judged))
        assert fields["reward_forecast"] == race.mean(i)  # what selection ran on
        assert (fields["reward_judged"], fields["reward_of"]) == (len(judged), 16)
        assert fields["reward_exact"] == (i not in partly)
    assert any(race.reward_fields(i)["reward_forecast"] != race.reward_fields(i)["reward_measured"] for i in partly)


def test_a_fully_judged_or_constant_reward_is_exact_and_a_failed_sample_has_none():
    from ads_bench.optimizer.racing import reward_fields

    assert reward_fields(0.6, [0.5, 0.7], 2) == {"reward_measured": 0.6, "reward_forecast": 0.6, "reward_exact": True,
                                                 "reward_judged": 2, "reward_of": 2}
    assert reward_fields(0.5, [0.5], 4, constant=True)["reward_exact"]  # acquired nothing: one judgment says it all
    assert not reward_fields(0.55, [0.5], 4)["reward_exact"]
    failed = reward_fields(None, [], 4)
    assert failed["reward_measured"] is None and failed["reward_forecast"] is None and not failed["reward_exact"]
