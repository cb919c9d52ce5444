// Handler: `Task Started` → start-task use case.
import { taskStartedSchema } from '../domain/events';
import { startTask } from '../use-cases/start-task';
import { awsIssuingEngine } from '../composition/aws-engine';
import { eventHandler, type DepsProvider } from '../composition/event-handler';

export const makeTaskStartedHandler = (getDeps: DepsProvider) =>
  eventHandler('task-started', taskStartedSchema, getDeps, (deps, event) => startTask(deps, event.detail));

export const handler = makeTaskStartedHandler(awsIssuingEngine);
