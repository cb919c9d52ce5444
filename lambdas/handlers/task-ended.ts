// Handler: `Task Ended` → end-task use case (revoke, rotate, verify); an invalid one that names its task still ends it.
import { taskEndedSchema } from '../domain/events';
import { endTask } from '../use-cases/end-task';
import { endInvalidTask } from '../use-cases/end-invalid-task';
import { awsRevokingEngine } from '../composition/aws-engine';
import { eventHandler, type DepsProvider } from '../composition/event-handler';
import { inRevocationLaneEach } from '../composition/revocation-lane';

export const makeTaskEndedHandler = (getDeps: DepsProvider) =>
  eventHandler('task-ended', taskEndedSchema, getDeps, (deps, event) => endTask(deps, event.detail), endInvalidTask);

export const handler = inRevocationLaneEach(makeTaskEndedHandler(awsRevokingEngine));
