#!/usr/bin/python3
"""Compare two loss logs (iter,total,content,style,tv,seconds) row by row.

  compare_logs.py REF.csv OTHER.csv --row 0:1e-4 --row 50:5e-3

For each --row K:TOL, prints the difference of every loss column at
iteration K as |a - b| / max(|a|, |b|, floor): relative where the values
are well above --floor (default 1), absolute below it (the content loss is
exactly 0 at row 0). Exits 1 if any difference exceeds its row's TOL,
2 on unusable input. The seconds column is not compared.
"""

import argparse
import csv
import sys

COLUMNS = ("total", "content", "style", "tv")


def read_log(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in ("iter",) + COLUMNS
                   if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing columns {missing}")
        return {int(r["iter"]): {c: float(r[c]) for c in COLUMNS}
                for r in reader}


def parse_row(spec):
    try:
        k, tol = spec.split(":")
        return int(k), float(tol)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected K:TOL, got {spec!r}")


def difference(a, b, floor):
    return abs(a - b) / max(abs(a), abs(b), floor)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("ref")
    p.add_argument("other")
    p.add_argument("--row", type=parse_row, action="append", required=True,
                   metavar="K:TOL")
    p.add_argument("--floor", type=float, default=1.0,
                   help="below this magnitude differences are absolute")
    args = p.parse_args(argv)

    try:
        ref, other = read_log(args.ref), read_log(args.other)
    except (OSError, ValueError) as e:
        print(e, file=sys.stderr)
        return 2

    failed = False
    print(f"{args.ref} vs {args.other}")
    print("%5s %-8s %22s %22s %10s %9s" %
          ("row", "column", "ref", "other", "diff", "tol"))
    for k, tol in args.row:
        if k not in ref or k not in other:
            print(f"row {k} missing", file=sys.stderr)
            return 2
        for c in COLUMNS:
            a, b = ref[k][c], other[k][c]
            d = difference(a, b, args.floor)
            bad = d > tol
            failed |= bad
            kind = "abs" if max(abs(a), abs(b)) < args.floor else "rel"
            print("%5d %-8s %22.15g %22.15g %10.3e %9.1e %s%s" %
                  (k, c, a, b, d, tol, kind, "  FAIL" if bad else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
