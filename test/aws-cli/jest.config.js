/** `npm run test:aws-cli`: the commands `frames local up` prints, pasted into a shell with a real
 *  `aws` (v1 and v2). Not part of `npm test` (the main jest.config.js never matches test/aws-cli):
 *  it needs an aws-cli installed, which `.ci/run` does first. */
module.exports = {
  rootDir: '../..',
  preset: 'ts-jest',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/aws-cli/**/*.test.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/support/quiet-sdk-warning.ts'],
  // Each CLI gets its own local cloud and a whole pipeline run: well under a minute each here.
  testTimeout: 600_000,
};
