import { App } from 'cdktf';
import { FramePipelineStack } from './modules/frame-pipeline-stack';
import { loadProjectStackConfig } from './pipeline/stack-config';

// Deployment settings: frames.config.json (or the file FRAMES_CONFIG names) overrides the
// defaults in pipeline/stack-config.ts. A bad value stops synth with the field's name.
const config = loadProjectStackConfig();

const app = new App();
new FramePipelineStack(app, 'frame-pipeline', { config, bundleDirectory: '.build/functions' });
app.synth();
