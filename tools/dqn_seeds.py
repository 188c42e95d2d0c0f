"""Train chapter 12's DQN agent on CartPole-v1 with several seeds and report every one.

    python -m tools.dqn_seeds                  # seeds 42 (the notebook's), 43 and 44
    python -m tools.dqn_seeds --seeds 0 1 2 3  # any others

One seed proves little in reinforcement learning, so the chapter's claim (CartPole-v1 solved: greedy
mean return >= 475, gymnasium's registered reward threshold, over 100 test episodes, within 50,000
training steps; evaluation episodes are outside that budget) is checked here over
several. Each seed trains with ``helpers.dqn.DQNConfig()``'s defaults, exactly as the notebook does
in its default mode, then plays 100 greedy test episodes on seeds never used in training or
selection. The exit status is 0 when every seed solves, 1 otherwise.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

SOLVED_RETURN = 475.0
STEP_BUDGET = 50_000
TEST_SEED = 20_000
"""First environment seed of the test episodes (the notebook uses the same)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--steps", type=int, default=STEP_BUDGET, help="training budget, environment steps")
    parser.add_argument("--episodes", type=int, default=100, help="greedy test episodes per seed")
    args = parser.parse_args(argv)

    from helpers.environment import import_tensorflow_quietly

    import_tensorflow_quietly()
    import tensorflow as tf

    from helpers.dqn import DQNConfig, evaluate_greedy, train_dqn

    tf.config.experimental.enable_op_determinism()  # as helpers.setup does in the notebook
    config = replace(DQNConfig(), total_steps=args.steps)
    print(f"CartPole-v1, Double DQN, budget {args.steps:,} steps, {args.episodes} greedy test episodes per seed")
    solved = 0
    for seed in args.seeds:
        start = time.perf_counter()
        agent, log = train_dqn(config, seed=seed, log=None)
        returns = evaluate_greedy(agent, episodes=args.episodes, seed=TEST_SEED, network="best")
        ok = returns.mean() >= SOLVED_RETURN and log.best_step <= STEP_BUDGET
        solved += ok
        print(f"seed {seed}: greedy mean {returns.mean():.1f} (min {returns.min():.0f}) over {len(returns)} episodes, "
              f"network from step {log.best_step:,} ({log.steps_done:,} steps trained; {log.eval_env_steps:,} evaluation "
              f"steps outside the budget; "
              f"{time.perf_counter() - start:.0f} s): {'solved' if ok else 'NOT solved'}", flush=True)
    print(f"{solved} of {len(args.seeds)} seeds solved (mean >= {SOLVED_RETURN:g} within {STEP_BUDGET:,} steps)")
    return 0 if solved == len(args.seeds) else 1


if __name__ == "__main__":
    raise SystemExit(main())
