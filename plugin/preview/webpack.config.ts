// The preview bundle the sidecar serves at GET / (React + the panel's views, no Grafana).
import path from 'path';
import type { Configuration } from 'webpack';

const config: Configuration = {
  mode: 'production',
  entry: path.resolve(__dirname, 'index.tsx'),
  output: { path: path.resolve(__dirname, '..', 'dist-preview'), filename: 'preview.js', clean: true },
  resolve: { extensions: ['.tsx', '.ts', '.js'] },
  module: {
    rules: [
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
    ],
  },
  performance: { hints: false },
};

export default config;
