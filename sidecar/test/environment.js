/**
 * jest's node environment with the outer realm's typed arrays. onnxruntime-node checks
 * `data instanceof Float32Array` against its own realm; jest's sandbox has different
 * constructors, so tensors built inside tests would be refused. (Serving runs ORT in a
 * worker thread, where this does not arise.)
 */
const { TestEnvironment } = require('jest-environment-node');

class ForesightEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of [
      'Float32Array',
      'Float64Array',
      'Int32Array',
      'Uint8Array',
      'Int8Array',
      'Uint16Array',
      'Int16Array',
      'Uint32Array',
      'BigInt64Array',
      'BigUint64Array',
      'ArrayBuffer',
    ]) {
      this.global[name] = globalThis[name];
    }
  }
}

module.exports = ForesightEnvironment;
