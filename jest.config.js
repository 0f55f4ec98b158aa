/** Three projects: `unit` (logic and handlers, mocked SDK or in-process servers) runs in seconds;
 *  `infra` synthesizes the stack and builds the real bundles; `integration` drives the real
 *  `frames` CLI and local cloud (ffmpeg, the local S3 server, dynalite, SQS) on videos the tests generate. */
const common = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  setupFilesAfterEnv: ['aws-sdk-client-mock-jest', '<rootDir>/test/support/quiet-sdk-warning.ts'],
  // The frame worker's processor, as tsconfig.json's `paths` and the bundler resolve it by default.
  moduleNameMapper: { '^@frames/processor$': '<rootDir>/functions/frame-worker/default-processor.ts' },
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      setupFilesAfterEnv: [...common.setupFilesAfterEnv, '<rootDir>/test/integration/support/setup.ts'],
    },
    {
      // Bad inputs, injected faults and load, in local mode: what the pipeline promises under stress.
      ...common,
      displayName: 'reliability',
      testMatch: ['<rootDir>/test/reliability/**/*.test.ts'],
      setupFilesAfterEnv: [...common.setupFilesAfterEnv, '<rootDir>/test/integration/support/setup.ts'],
    },
  ],
};
