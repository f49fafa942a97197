/**
 * The fleet scenarios `source.simulator.scenario` accepts. Declared with the config, which reads
 * them, so config needs nothing from the simulator; the simulator (simulator/scenario.ts) says
 * what each one does.
 */
export const SCENARIO_NAMES = ['healthy', 'busy', 'degrading', 'critical'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];
