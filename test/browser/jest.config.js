/** `npm run test:browser`: a report opened in headless Chromium (Debian's `chromium`, driven by
 *  playwright-core). Not part of `npm test` (the main jest.config.js never matches test/browser/):
 *  it needs /usr/bin/chromium, which `.ci/run` installs first. */
module.exports = {
  rootDir: '../..',
  preset: 'ts-jest',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/browser/**/*.test.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/support/quiet-sdk-warning.ts'],
  // One pipeline run (a local cloud's start, 60 frames) and a browser: well under a minute here.
  testTimeout: 300_000,
};
