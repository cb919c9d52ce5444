// Handler: `Task Started` → start-task use case.
import { taskStartedSchema } from '../domain/events';
import { startTask } from '../use-cases/start-task';
import { refuseInvalidStart } from '../use-cases/refuse-invalid-start';
import { awsIssuingEngine } from '../composition/aws-engine';
import { eventHandler, type DepsProvider } from '../composition/event-handler';

export const makeTaskStartedHandler = (getDeps: DepsProvider) =>
  eventHandler('task-started', taskStartedSchema, getDeps, (deps, event) => startTask(deps, event.detail), refuseInvalidStart);

export const handler = makeTaskStartedHandler(awsIssuingEngine);
