# Sourced by train.sh and eval.sh: how the simulator history the model trains on is made.
# A fixed --end keeps it (and so the model and its evaluation) reproducible.
if [ "${smoke:-0}" = 1 ]; then
  sim_args=(--fleet ml_compute=2,database=1,web_api=1,data_ingest=1 --days 3 --schedule healthy,40h:degrading,50h:healthy --incidents 2 --end 1790000000)
else
  # 140 servers x 14 days: every profile, every scenario, 60 injected incidents
  sim_args=(--servers 140 --days 14 --seed 7 --incidents 60 --end 1790000000
    --schedule healthy,2d:busy,4d:healthy,5d:degrading,5.5d:healthy,7d:busy,9d:critical,9.3d:healthy,11d:degrading,11.4d:healthy,12d:busy)
fi
