#!/bin/bash
# Submits an advx evaluation to Slurm as a job array of N shards and a merge job that runs once all succeed.
#   deploy/slurm/submit.sh N OUT [advx eval flags...]
#   deploy/slurm/submit.sh 16 /shared/at-report --model mnist-cnn-at --attacks autoattack --eps 0.3 --n 10000
# Prints the two job ids (array, merge). Extra sbatch options: SBATCH_* environment variables
# (e.g. SBATCH_PARTITION=gpu) or edit the #SBATCH lines. OUT must be on a file system every node sees.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 N OUT [advx eval flags...]" >&2
  exit 2
fi
n="$1"
out="$(realpath -m "$2")"
shift 2
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$out"
export ADVX_SHARDS="$n" ADVX_OUT="$out" ADVX_EVAL_ARGS="$*"
array=$(sbatch --parsable --array="0-$((n - 1))" --output="$out/slurm-%A_%a.log" --export=ALL "$here/advx-eval-array.sbatch")
array="${array%%;*}"
merge=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes --output="$out/slurm-merge-%j.log" --export=ALL "$here/advx-merge.sbatch")
echo "$array ${merge%%;*}"
