/** The sidecar's JSON that the panel and the preview page read. */

/** Where the sidecar reads from, and how that read is going (`/api/v1/fleet`'s `source`). */
export interface FleetSourceJson {
  readonly type: 'simulator' | 'prometheus';
  /** Base URL without credentials; null for the simulator. */
  readonly url: string | null;
  /** False while the last read failed (wholly or for some metrics). */
  readonly up: boolean;
  /** Unix seconds (wall clock) of the first failed read of the current outage. */
  readonly downSince: number | null;
  /** Unix seconds (wall clock) of the last successful cycle. */
  readonly lastSuccess: number | null;
  /** The last source error while down. */
  readonly error: string | null;
  /** Simulator only: simulated seconds per wall-clock second. */
  readonly clock: { readonly speed: number } | null;
}
