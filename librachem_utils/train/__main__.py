"""``python -m librachem_utils.train --params params/default.yaml [--arms a,b] [--force]``, and the same under
``accelerate launch -m librachem_utils.train ...`` on several GPUs."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Optional, Sequence

from librachem_utils.core import params as params_mod
from librachem_utils.train.runner import summary_rows, train_arms


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m librachem_utils.train",
                                     description="Train the alignment arms of a params file (notebook 04).")
    parser.add_argument("--params", required=True, help="a params YAML file, e.g. params/default.yaml")
    parser.add_argument("--arms", help="comma-separated arms (default: the params' arms and sweeps)")
    parser.add_argument("--force", action="store_true", help="retrain the named arms even if complete")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    import torch
    from accelerate import PartialState

    PartialState(cpu=not torch.cuda.is_available())  # without a GPU, processes of accelerate launch join over gloo
    try:
        cfg = params_mod.load(args.params)
        arms = [a.strip() for a in args.arms.split(",") if a.strip()] if args.arms else None
        metrics = train_arms(cfg, arms, force=args.force, progress=not args.no_progress)
    except (params_mod.ParamsError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for row in summary_rows(metrics):
        print(json.dumps(row))
    print(f"done: {len(metrics['arms'])} arms, {metrics['total_wall_s']:.1f} s of training -> "
          f"{cfg.paths.results / 'train_metrics.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
