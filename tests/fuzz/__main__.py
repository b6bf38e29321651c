"""python -m tests.fuzz --mutants N --seed S [--workers 1] [--report out.json] [--out DIR] [--only REGEX ...]"""
import argparse
import json
import sys

from .runner import Campaign, format_report


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    ap.add_argument("--mutants", type=int, default=1000, help="number of mutants (default 1000)")
    ap.add_argument("--seed", type=int, default=0, help="campaign seed: mutant i is drawn from (seed, i)")
    ap.add_argument("--workers", type=int, default=1, help="parallel worker processes (default 1)")
    ap.add_argument("--report", help="write the full report (counts, every failure) as JSON here")
    ap.add_argument("--out", default="fuzz-out", help="folder for sentinels, worker logs and saved failing mutants")
    ap.add_argument("--timeout", type=float, default=15.0, help="seconds per operation before it is a hang")
    ap.add_argument("--codegen", type=float, default=0.02, help="fraction of model mutants also run through codegen")
    ap.add_argument("--build", type=float, default=0.25, help="fraction of those codegen runs with --build")
    ap.add_argument("--memory", type=float, default=4.0, help="worker address-space limit in GiB (0: none)")
    ap.add_argument("--only", nargs="+", help="only the mutators whose names match these regular expressions")
    ap.add_argument("--seeds", nargs="+", help="only the seed models whose names match these regular expressions")
    ap.add_argument("--ids", type=int, nargs="+", help="only these mutant numbers (of --seed): a failure found in "
                                                      "a campaign again, saved under OUT/failures")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    c = Campaign(a.mutants, seed=a.seed, workers=a.workers, out=a.out, timeout=a.timeout, p_codegen=a.codegen,
                 p_build=a.build, as_limit=int(a.memory * (1 << 30)), only=a.only,
                 seed_filter=a.seeds, ids=a.ids, progress=not a.quiet)
    rep = c.run()
    print(format_report(rep))
    if a.report:
        with open(a.report, "w") as fh:
            json.dump(rep, fh, indent=1, default=str)
    n_fail = sum(rep["failure_classes"].values())
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
