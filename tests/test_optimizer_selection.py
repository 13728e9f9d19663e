"""Cost-tier selection, exactly as ADS.md states it, with the ties the paper leaves open decided."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ads_bench.optimizer.cost_tier_selection import Scored, select


def scored(*pairs):
    return [Scored(i, r, c) for i, (r, c) in enumerate(pairs)]


def test_tau_zero_is_pure_reward_maximisation_whatever_the_costs():
    trajectories = scored((0.9, 10.0), (0.5, 0.0), (0.1, 0.0), (0.8, 0.1))
    assert (select(trajectories, 0.0).chosen, select(trajectories, 0.0).rejected) == (0, 2)


def test_the_top_tier_picks_its_cheapest_and_the_bottom_tier_its_dearest():
    # Rmax 1.0, Rmin 0.0, tau 0.3: top tier R >= 0.7, bottom tier R <= 0.3
    trajectories = scored((1.0, 5.0), (0.75, 1.0), (0.5, 0.0), (0.2, 3.0), (0.0, 1.0))
    selection = select(trajectories, 0.3)
    assert (selection.chosen, selection.rejected) == (1, 3)


def test_cost_never_changes_which_rewards_count():
    cheap_but_bad = scored((0.1, 0.0), (0.9, 100.0))
    assert select(cheap_but_bad, 0.2).chosen == 1


def test_equal_costs_in_a_tier_fall_back_to_reward_then_sample_index():
    trajectories = scored((1.0, 1.0), (0.95, 1.0), (0.0, 2.0), (0.04, 2.0))
    selection = select(trajectories, 0.1)
    assert selection.chosen == 0  # same cost: the higher reward
    assert selection.rejected == 2  # same cost: the lower reward
    tied = scored((1.0, 1.0), (1.0, 1.0), (0.0, 1.0), (0.0, 1.0))
    assert (select(tied, 0.0).chosen, select(tied, 0.0).rejected) == (0, 2)


@pytest.mark.parametrize("tau", [0.0, 0.2, 0.5, 1.0])
def test_equal_rewards_pair_the_cheapest_over_the_dearest_as_the_tiers_say(tau):
    # R = 0.5, 0.5, 0.5: both tiers hold all three whatever tau (ADS.md's rule, followed as stated)
    selection = select(scored((0.5, 3.0), (0.5, 1.0), (0.5, 2.0)), tau)
    assert (selection.chosen, selection.rejected) == (1, 0) and "cheapest over the dearest" in selection.reason


def test_an_empty_trajectory_that_ties_is_preferred_to_one_that_paid_for_nothing():
    selection = select(scored((0.5, 0.07), (0.5, 0.0)), 0.0)  # its data changed no judgment
    assert (selection.chosen, selection.rejected) == (1, 0)


def test_equal_rewards_and_equal_costs_give_a_chosen_trajectory_but_no_pair():
    selection = select(scored((0.5, 1.0), (0.5, 1.0), (0.5, 1.0)), 0.2)
    assert selection.chosen == 0 and selection.rejected is None and "equal" in selection.reason


def test_a_single_trajectory_is_chosen_for_sft_without_a_pair():
    selection = select(scored((0.4, 1.0)), 0.0)
    assert (selection.chosen, selection.rejected) == (0, None)


def test_failed_trajectories_are_ignored_and_all_failed_gives_nothing():
    trajectories = [Scored(0, None, 0.0), Scored(1, 0.7, 1.0), Scored(2, 0.2, 1.0)]
    assert (select(trajectories, 0.0).chosen, select(trajectories, 0.0).rejected) == (1, 2)
    nothing = select([Scored(0, None, 0.0), Scored(1, None, 0.0)], 0.0)
    assert nothing.chosen is None and "failed" in nothing.reason


def test_tau_outside_the_unit_interval_is_rejected():
    with pytest.raises(ValueError):
        select(scored((1.0, 1.0)), 1.5)


rewards = st.lists(st.tuples(st.floats(0, 1), st.floats(0, 10)), min_size=2, max_size=8)


@given(rewards, st.floats(0, 1))
def test_chosen_is_in_the_top_tier_and_rejected_in_the_bottom_one(pairs, tau):
    trajectories = scored(*pairs)
    selection = select(trajectories, tau)
    r = [p[0] for p in pairs]
    r_max, r_min = max(r), min(r)
    assert r[selection.chosen] >= (1 - tau) * r_max + tau * r_min - 1e-12
    if selection.rejected is not None:
        assert r[selection.rejected] <= (1 - tau) * r_min + tau * r_max + 1e-12
        assert selection.rejected != selection.chosen
        if tau == 0:
            assert r[selection.chosen] == r_max and r[selection.rejected] == r_min
