/**
 * The identity every local service shares. The local S3 server verifies SigV4 signatures against
 * these credentials; they grant nothing anywhere else (no AWS account has this key id).
 */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_CREDENTIALS = { accessKeyId: 'LOCALFRAMESKEY', secretAccessKey: 'local-frames-secret' } as const;
