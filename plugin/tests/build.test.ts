/**
 * @jest-environment node
 *
 * The built dist/module.js runs on Grafana 12.4 (React 18) and 13.2+ (React 19): it must not
 * bundle React, ReactDOM or @grafana/* (Grafana provides them) and must not call what React 19
 * removed.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const MODULE = path.join(__dirname, '..', 'dist', 'module.js');

describe('built dist/module.js', () => {
  test('when built, then React and the Grafana packages are external AMD dependencies, not bundled', () => {
    expect(existsSync(MODULE)).toBe(true);
    const js = readFileSync(MODULE, 'utf8');
    const deps = /define\((\[[^\]]*\])/.exec(js);
    expect(deps).not.toBeNull();
    expect((JSON.parse(deps![1]!.replace(/'/g, '"')) as string[]).sort()).toEqual([
      '@grafana/data',
      '@grafana/runtime',
      '@grafana/ui',
      'module',
      'react',
    ]);
  });

  test('when built, then it uses none of the APIs React 19 removed', () => {
    const js = readFileSync(MODULE, 'utf8');
    for (const removed of [
      'findDOMNode',
      'unmountComponentAtNode',
      'createFactory',
      'defaultProps',
      'propTypes',
      'contextTypes',
      'childContextTypes',
      'getChildContext',
      'ReactDOM.render',
      'react-dom/test-utils',
      'PropTypes',
    ]) {
      expect({ removed, found: js.includes(removed) }).toEqual({ removed, found: false });
    }
  });
});
