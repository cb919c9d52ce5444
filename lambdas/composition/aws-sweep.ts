// Composition (AWS): the sweep's dependencies: the engine's, plus CloudTrail for use after
// revocation. Only the sweep reads CloudTrail, so only its bundle carries the client.
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CloudTrailUseLog } from '../adapters/aws/cloudtrail-use-log';
import type { EngineDeps } from '../use-cases/engine-deps';
import { awsEngine } from './aws-engine';

let useLog: CloudTrailUseLog | undefined;

/** The engine's dependencies with the CloudTrail use log, built once per container. */
export async function awsSweepEngine(): Promise<EngineDeps> {
  const deps = await awsEngine();
  useLog ??= new CloudTrailUseLog({ cloudTrail: new CloudTrailClient({ region: process.env.AWS_REGION }) });
  return { ...deps, useLog };
}
