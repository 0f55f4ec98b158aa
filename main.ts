import { App, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
const app = new App();
const s = new TerraformStack(app, 'probe');
new AwsProvider(s, 'aws', {});
app.synth();
