// Bundles the browser harness (tests/harness/entry.tsx) for the Chromium tests.
import path from 'path';
import webpack, { type Configuration } from 'webpack';

const config: Configuration = {
  mode: 'development',
  devtool: false,
  entry: path.resolve(__dirname, 'entry.tsx'),
  output: { path: path.resolve(__dirname, '..', '..', 'test-artifacts', 'harness'), filename: 'harness.js' },
  resolve: { extensions: ['.tsx', '.ts', '.js', '.mjs'] },
  module: {
    rules: [
      // @grafana/ui's dependencies import extension-less paths from .mjs files
      { test: /\.m?js$/, resolve: { fullySpecified: false } },
      {
        test: /\.[tj]sx?$/,
        exclude: /node_modules/,
        use: { loader: 'swc-loader', options: { jsc: { parser: { syntax: 'typescript', tsx: true }, transform: { react: { runtime: 'classic' } }, target: 'es2020' } } },
      },
      { test: /\.css$/, use: ['style-loader', 'css-loader'] },
      { test: /\.(svg|png|woff2?|ttf|eot)$/, type: 'asset/inline' },
    ],
  },
  // one file: the page loads it with a single script tag
  plugins: [new webpack.optimize.LimitChunkCountPlugin({ maxChunks: 1 })],
  performance: { hints: false },
};

export default config;
