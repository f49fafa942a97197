/** Which profile an instance has: ordered instance rules (first match wins), else `generic`. */
import type { ProfileName } from './profiles';
import { DEFAULT_INSTANCE_PATTERNS } from './profiles';

export function profileMatcher(rules: ReadonlyArray<{ readonly pattern: string; readonly profile: ProfileName }> | undefined): (instance: string) => ProfileName {
  const compiled = (rules ?? DEFAULT_INSTANCE_PATTERNS).map((r) => ({ re: new RegExp(r.pattern), profile: r.profile }));
  const cache = new Map<string, ProfileName>();
  return (instance) => {
    let p = cache.get(instance);
    if (p === undefined) {
      p = compiled.find((r) => r.re.test(instance))?.profile ?? 'generic';
      cache.set(instance, p);
    }
    return p;
  };
}
