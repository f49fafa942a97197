/**
 * What the forecast publishes: the horizons (a decoder step each) and percentiles (a column of
 * the model's quantiles each) the config asks for, checked against what the model produces.
 */
import type { Config } from '../config/schema';
import { ConfigError } from '../config/load';
import { formatDuration, parseDuration } from '@foresight/contract';
import type { ModelManifest } from './manifest';

export interface HorizonSpec {
  readonly label: string;
  /** Decoder step index (0-based) of this horizon. */
  readonly index: number;
}
export interface PercentileSpec {
  readonly label: string;
  /** Index into the model's quantiles. */
  readonly index: number;
}

/**
 * Horizons and percentiles the config asks for, checked against what the model produces; throws
 * ConfigError (prefixed with `origin`, the config's file) naming the key when the model cannot
 * give one.
 */
export function publicationSpecs(config: Config, manifest: ModelManifest, origin: string): { horizons: HorizonSpec[]; percentiles: PercentileSpec[] } {
  if (manifest.step_seconds !== config.source.step) {
    throw new ConfigError(
      `${origin}: source.step: the model works in steps of ${formatDuration(manifest.step_seconds)} (got ${formatDuration(config.source.step)})`,
    );
  }
  const horizons = config.forecast.horizons.map((label, i) => {
    const steps = parseDuration(label)! / config.source.step;
    if (steps > manifest.decoder_length) {
      throw new ConfigError(
        `${origin}: forecast.horizons[${i}]: ${label} is beyond the model's ${formatDuration(manifest.decoder_length * manifest.step_seconds)} forecast`,
      );
    }
    return { label, index: steps - 1 };
  });
  const percentiles = config.forecast.percentiles.map((p, i) => {
    const index = manifest.quantiles.findIndex((q) => Math.abs(q * 100 - p) < 1e-9);
    if (index < 0) {
      throw new ConfigError(
        `${origin}: forecast.percentiles[${i}]: ${p} is not a quantile the model produces (${manifest.quantiles.map((q) => +(q * 100).toFixed(6)).join(', ')})`,
      );
    }
    return { label: String(p), index };
  });
  return { horizons, percentiles };
}
