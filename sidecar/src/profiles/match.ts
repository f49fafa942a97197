/**
 * Which profile an instance has (README "Profiles"): its `profile` label when
 * the source has one that names a profile, else ordered instance rules (first match wins),
 * else `generic`.
 */
import type { ProfileName } from './profiles';
import { DEFAULT_INSTANCE_PATTERNS, isProfileName } from './profiles';

export type ProfileOf = (instance: string, label?: string) => ProfileName;

export function profileMatcher(rules: ReadonlyArray<{ readonly pattern: string; readonly profile: ProfileName }> | undefined): ProfileOf {
  const compiled = (rules ?? DEFAULT_INSTANCE_PATTERNS).map((r) => ({ re: new RegExp(r.pattern), profile: r.profile }));
  const cache = new Map<string, ProfileName>();
  return (instance, label) => {
    if (label !== undefined && isProfileName(label)) return label;
    let p = cache.get(instance);
    if (p === undefined) {
      p = compiled.find((r) => r.re.test(instance))?.profile ?? 'generic';
      cache.set(instance, p);
    }
    return p;
  };
}
