#!/usr/bin/env bash
# Re-make what README.md and docs/model.md quote after a change to the model: the calibration
# (shipped in posteriors/record_2025), the main run and its fan chart, the comparisons of worlds and
# levers, the whole-model sensitivity, the sweep heat map and the backtest tables. Figures are
# copied into docs/img and posteriors/; each command's output is kept in $OUT (default a new
# temporary folder) to paste the figures into the text. About 25 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
results="$OUT/results"
latest() { ls -d "$results/$1"/*/ | tail -1; }
say() { echo "== $*" >&2; }

say calibration
resim calibrate observations/record_and_sales_2025.yaml --results "$results" > "$OUT/calibrate.txt"
rm -rf posteriors/record_and_sales_2025 && cp -r "$(latest calibrations/record_and_sales_2025)" posteriors/record_and_sales_2025
rm -rf posteriors/record_and_sales_2025/points posteriors/record_and_sales_2025/points.parquet  # draws.parquet has them all

for s in pause_ends baseline october_returns october_returns_stress full_ban stockpile_90d domestic_fast \
         substitution_recycling; do
  say "run $s"
  resim run "scenarios/$s.yaml" --results "$results" > "$OUT/run_$s.txt"
done
cp "$(latest pause_ends)fan_chart.png" docs/img/pause_ends_fan_chart.png

say comparisons
resim compare "$(latest pause_ends)" "$(latest october_returns)" --results "$results" > "$OUT/compare_october.txt"
resim compare "$(latest pause_ends)" "$(latest baseline)" "$(latest october_returns)" \
  "$(latest october_returns_stress)" "$(latest full_ban)" --results "$results" > "$OUT/compare_worlds.txt"
cp "$(latest comparisons/pause_ends__vs__baseline+october_returns+october_returns_stress+full_ban)comparison.png" \
  docs/img/compare_worlds.png
resim compare "$(latest pause_ends)" "$(latest stockpile_90d)" "$(latest domestic_fast)" \
  "$(latest substitution_recycling)" --results "$results" > "$OUT/compare_levers.txt"
cp "$(latest comparisons/pause_ends__vs__stockpile_90d+domestic_fast+substitution_recycling)comparison.png" \
  docs/img/compare_levers.png

say sensitivity
resim sensitivity scenarios/pause_ends.yaml --group after_the_pause='china.regimes.*' \
  --group light_ree_licensed='china.rule_sets.*.may_license.*' \
  --group holdback='china.rule_sets.*.non_china_exposed_share' --results "$results" > "$OUT/sensitivity.txt" 2>&1
cp "$(latest sensitivity/pause_ends)indices_over_time.png" docs/img/sensitivity_over_time.png
cp "$(latest sensitivity/pause_ends)indices.png" docs/img/sensitivity_pause_ends.png

say sweep
resim sweep sweeps/approval_and_stockpile.yaml --results "$results" > "$OUT/sweep.txt"
cp "$(latest sweeps/approval_and_stockpile)heatmap.png" docs/img/sweep_heatmap.png

say backtest tables
python docs/backtest_tables.py > "$OUT/backtest_tables.md"
say "done: outputs in $OUT"
