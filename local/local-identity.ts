/**
 * The identity every local service shares. s3rver verifies SigV4 signatures against its one
 * built-in account, so local credentials are that account's; they grant nothing anywhere else.
 */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
