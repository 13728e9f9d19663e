"""Racing spends fewer evaluations on trajectories that can be neither chosen nor rejected."""

import random

from ads_bench.optimizer.racing import Race, exhaustive_selection


def run_race(matrix, costs, tau=0.0, **kwargs):
    race = Race(costs, len(matrix[0]), tau=tau, **kwargs)
    while not race.done():
        trajectories, instructions = race.next_round()
        for t in trajectories:
            race.observe(t, [matrix[t][i] for i in instructions])
        race.end_round()
    return race


def test_clearly_separated_trajectories_are_raced_with_far_fewer_evaluations():
    rng = random.Random(0)
    means = [0.9, 0.5, 0.52, 0.48, 0.5, 0.1]
    matrix = [[min(1, max(0, m + rng.gauss(0, 0.05))) for _ in range(16)] for m in means]
    race = run_race(matrix, [1.0] * 6)
    exhaustive = exhaustive_selection(matrix, [1.0] * 6, 0.0)
    assert (race.selection().chosen, race.selection().rejected) == (exhaustive.chosen, exhaustive.rejected) == (0, 5)
    assert race.evaluations() * 3 <= 6 * 16


def test_failed_trajectories_cost_nothing_and_never_win():
    matrix = [[0.8] * 8, [0.2] * 8, [0.5] * 8]
    race = Race([1.0, 1.0, 1.0], 8, usable=[True, True, False])
    while not race.done():
        trajectories, instructions = race.next_round()
        assert 2 not in trajectories
        for t in trajectories:
            race.observe(t, [matrix[t][i] for i in instructions])
        race.end_round()
    assert (race.selection().chosen, race.selection().rejected) == (0, 1)


def test_a_lone_usable_trajectory_is_still_judged_so_that_it_has_a_reward_to_be_chosen_with():
    matrix = [[0.7] * 8, [0.0] * 8]
    race = run_race(matrix, [1.0, 1.0], usable=[True, False])
    assert race.evaluations() == race.min_evaluations
    assert race.selection().chosen == 0 and race.mean(0) == 0.7


def test_indistinguishable_trajectories_are_evaluated_to_the_end():
    matrix = [[0.5, 0.6, 0.4, 0.5, 0.55, 0.45] for _ in range(3)]
    race = run_race(matrix, [1.0, 2.0, 3.0])
    assert race.evaluations() == 3 * 6


def test_with_cost_tiers_the_cheapest_sure_top_trajectory_stops_dearer_ones():
    matrix = [[0.9] * 12, [0.9] * 12, [0.1] * 12, [0.1] * 12]
    costs = [5.0, 1.0, 1.0, 5.0]
    race = run_race(matrix, costs, tau=0.2)
    selection = race.selection()
    exhaustive = exhaustive_selection(matrix, costs, 0.2)
    assert (selection.chosen, selection.rejected) == (exhaustive.chosen, exhaustive.rejected) == (1, 3)
    assert race.evaluations() < 4 * 12
