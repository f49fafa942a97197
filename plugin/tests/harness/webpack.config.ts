// Bundles the browser harness (tests/harness/entry.tsx) for the Chromium tests.
import path from 'path';
import webpack, { type Configuration } from 'webpack';

const config: Configuration = {
  mode: 'development',
  devtool: false,
  entry: path.resolve(__dirname, 'entry.tsx'),
  output: { path: path.resolve(__dirname, '..', '..', 'test-artifacts', 'harness'), filename: 'harness.js' },
  // FORESIGHT_HARNESS_MODULES: a node_modules with other React / @grafana versions (e.g. React 19
  // and @grafana/* 13) to mount the same built dist/module.js with; see the plugin README
  resolve: {
    extensions: ['.tsx', '.ts', '.js', '.mjs'],
    ...(process.env['FORESIGHT_HARNESS_MODULES']
      ? { modules: [process.env['FORESIGHT_HARNESS_MODULES'], 'node_modules'] }
      : {}),
  },
  module: {
    rules: [
      // @grafana/ui's dependencies import extension-less paths from .mjs files
      { test: /\.m?js$/, resolve: { fullySpecified: false } },
      {
        test: /\.[tj]sx?$/,
        exclude: /node_modules/,
        use: {
          loader: 'swc-loader',
          options: {
            jsc: {
              parser: { syntax: 'typescript', tsx: true },
              transform: { react: { runtime: 'classic' } },
              target: 'es2020',
            },
          },
        },
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
