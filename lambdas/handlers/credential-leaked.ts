// Handler: `Credential Leaked`, and AWS Health's AWS_RISK_CREDENTIALS_EXPOSED (one leak per
// exposed key) → report-leak use case; an invalid report that names an issued credential still revokes it.
import * as z from 'zod';
import { credentialLeakedSchema, healthExposureSchema } from '../domain/events';
import { reportInvalidLeak, reportLeak } from '../use-cases/report-leak';
import { awsRevokingEngine } from '../composition/aws-engine';
import { eventHandler, type DepsProvider } from '../composition/event-handler';
import { inRevocationLaneEach } from '../composition/revocation-lane';

const leakOrExposure = z.union([credentialLeakedSchema, healthExposureSchema]);

export const makeCredentialLeakedHandler = (getDeps: DepsProvider) =>
  eventHandler(
    'credential-leaked',
    leakOrExposure,
    getDeps,
    async (deps, event) => {
      const detail = event.detail;
      if (!('eventTypeCode' in detail)) return reportLeak(deps, detail);
      const results = [];
      for (const entity of detail.affectedEntities) {
        results.push(
          await reportLeak(deps, { credentialId: entity.entityValue, reportedBy: 'aws.health', evidence: 'AWS_RISK_CREDENTIALS_EXPOSED' }),
        );
      }
      return { outcome: results.map((result) => result.outcome).join(',') };
    },
    reportInvalidLeak,
  );

export const handler = inRevocationLaneEach(makeCredentialLeakedHandler(awsRevokingEngine));
