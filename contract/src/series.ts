/**
 * Every `foresight_*` series the sidecar publishes: name, type, help (with base units) and
 * labels, in one module. The sidecar's exporter renders them, the panel queries them by these
 * names, and tests, rules and dashboards check names against this list.
 */
export interface MetricDef {
  readonly name: string;
  readonly type: 'gauge' | 'counter' | 'histogram';
  readonly help: string;
  readonly labels: readonly string[];
}

const def = (name: string, type: MetricDef['type'], help: string, labels: readonly string[]): MetricDef => ({ name, type, help, labels });

export const SERIES = {
  riskScore: def('foresight_risk_score', 'gauge', 'Contextual risk now, 0-100.', ['instance', 'profile']),
  severityLevel: def('foresight_severity_level', 'gauge', 'Severity level 0 (healthy) to 6 (imminent_failure).', ['instance', 'profile']),
  predictedRiskScore: def('foresight_predicted_risk_score', 'gauge', 'Risk computed on the forecast at that horizon, 0-100.', [
    'instance',
    'profile',
    'horizon',
  ]),
  riskDriver: def('foresight_risk_driver', 'gauge', 'Points each driver contributes to the risk score.', ['instance', 'profile', 'driver']),
  metricValue: def('foresight_metric_value', 'gauge', "The latest value the model saw, in the metric's unit (percent, load per core, bytes per second).", [
    'instance',
    'profile',
    'metric',
  ]),
  forecast: def('foresight_forecast', 'gauge', "Forecast value in the metric's unit, published at now with the horizon it is for.", [
    'instance',
    'profile',
    'metric',
    'horizon',
    'percentile',
  ]),
  timeToBreach: def(
    'foresight_time_to_breach_seconds',
    'gauge',
    "Seconds until that forecast percentile crosses the profile's critical threshold; +Inf if not within the forecast.",
    ['instance', 'profile', 'metric', 'percentile'],
  ),
  instanceReady: def('foresight_instance_ready', 'gauge', '1 when enough history backs the forecast, 0 while the instance is scored on current state only.', [
    'instance',
    'profile',
  ]),
  instanceStale: def(
    'foresight_instance_stale',
    'gauge',
    "1 while the instance's data is missing, partial, stale or invalid and its published forecasts and risk are carried over from its last good data (or it is unknown); 0 when they are from this cycle.",
    ['instance', 'profile'],
  ),
  instanceUnknown: def(
    'foresight_instance_unknown',
    'gauge',
    "1 once the instance's data has been missing longer than source.keep_stale (or was never complete): no forecast, score or value is published, and foresight_severity_level keeps the last level seen.",
    ['instance', 'profile'],
  ),
  buildInfo: def('foresight_build_info', 'gauge', 'Build information (always 1).', ['version', 'nodejs']),
  modelInfo: def('foresight_model_info', 'gauge', 'The model being served (always 1).', ['model', 'version', 'execution_provider']),
  cycleDuration: def('foresight_cycle_duration_seconds', 'histogram', 'Duration of forecast cycles by stage, seconds.', ['stage']),
  lastSuccess: def('foresight_last_success_timestamp_seconds', 'gauge', 'Unix time of the last cycle that read the source and published forecasts.', []),
  sourceUp: def('foresight_source_up', 'gauge', '1 if the last read of the source succeeded, else 0.', []),
  sourceInfo: def(
    'foresight_source_info',
    'gauge',
    'Where history is read from (always 1): type prometheus or simulator, and the base URL without credentials (empty for the simulator).',
    ['type', 'url'],
  ),
  errors: def(
    'foresight_errors_total',
    'counter',
    'Failed operations by stage and reason, one per failure: a query (source), a cycle whose inference failed (forecast), a reload.',
    ['stage', 'reason'],
  ),
  samplesDropped: def(
    'foresight_samples_dropped_total',
    'counter',
    "Samples read from the source and dropped by the value checks (never forecast from or published), by metric and reason: non_finite (not a finite number), invalid (not a number at all), out_of_range (outside the metric's range).",
    ['metric', 'reason'],
  ),
  forecastsDropped: def(
    'foresight_forecast_series_dropped_total',
    'counter',
    'Series whose forecast could not be made in a cycle, by reason (inference: its batch failed; nan_output: the model gave non-finite values).',
    ['reason'],
  ),
  instances: def('foresight_instances', 'gauge', 'Instances this sidecar (shard) covers.', []),
  coverage: def(
    'foresight_forecast_coverage_ratio',
    'gauge',
    'Share of actual values inside the forecast p10-p90 band once the horizon passed (nominal 0.8).',
    ['metric', 'horizon'],
  ),
  pinball: def('foresight_forecast_pinball_loss', 'gauge', "Mean pinball loss over the model's quantiles once the horizon passed, in the metric's unit.", [
    'metric',
    'horizon',
  ]),
} as const;

export const ALL_SERIES: readonly MetricDef[] = Object.values(SERIES);
