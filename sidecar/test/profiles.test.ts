/** Which profile an instance gets: its `profile` label, else the ordered instance rules, else generic. */
import { profileMatcher } from '../src/profiles/match';

describe('profile matching', () => {
  const rules = [
    { pattern: '^db-', profile: 'database' as const },
    { pattern: '^db-ml', profile: 'ml_compute' as const },
  ];
  test.each<[string, string | undefined, string, string]>([
    ['db-1', undefined, 'database', 'the first matching rule wins'],
    ['db-ml-1', undefined, 'database', 'rules are ordered: ^db- comes before ^db-ml'],
    ['web-1', undefined, 'generic', 'no rule matches'],
    ['db-1', 'web_api', 'web_api', 'a profile label naming a profile wins over the rules'],
    ['db-1', 'frontend', 'database', 'a label that names no profile is ignored'],
    ['db-1', '', 'database', 'an empty label is ignored'],
  ])('when %s has label %s, then its profile is %s (%s)', (instance, label, expected) => {
    expect(profileMatcher(rules)(instance, label)).toBe(expected);
  });

  test('when no rules are configured, then the default name patterns apply', () => {
    const of = profileMatcher(undefined);
    expect(['ppml0001', 'ppdb001', 'ppweb001', 'ppcon01', 'ppdi001', 'ppra001', 'node-7'].map((i) => of(i))).toEqual([
      'ml_compute',
      'database',
      'web_api',
      'conductor_mgmt',
      'data_ingest',
      'risk_analytics',
      'generic',
    ]);
  });
});
