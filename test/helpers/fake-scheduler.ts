// Test helper: a stateful EventBridge Scheduler behind aws-sdk-client-mock: schedules kept
// per group, ConflictException on a name taken, ResourceNotFoundException, throttling on demand.
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  ThrottlingException,
  ValidationException,
  type CreateScheduleCommandInput,
  type DeleteScheduleCommandInput,
  type GetScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';

const metadata = { httpStatusCode: 400 };
/** Scheduler's modelled errors carry their message twice: `message`, and `Message` as on the wire. */
const fields = (message: string) => ({ message, Message: message, $metadata: metadata });
const NAME = /^[0-9a-zA-Z\-_.]{1,64}$/;
const AT = /^at\(\d{4}-(0[1-9]|1[0-2])-([0-2]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\)$/;
const RATE_OR_CRON = /^(rate|cron)\(.+\)$/;

export function throttling(): ThrottlingException {
  return new ThrottlingException(fields('Rate exceeded'));
}

const validation = (message: string) => new ValidationException(fields(message));

export interface FakeSchedulerOptions {
  /** Answer every SchedulerClient in the process (clients a composition root builds), not only `client`. */
  readonly everyClient?: boolean;
}

export class FakeScheduler {
  readonly client = new SchedulerClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' } });
  readonly mock: AwsClientStub<SchedulerClient>;
  /** Schedules by `<group>/<name>`, as created. */
  readonly schedules = new Map<string, CreateScheduleCommandInput>();
  private readonly faults: Array<{ readonly command: string; readonly error: Error }> = [];

  /** `groups`: the schedule groups that exist (`default` always does). */
  constructor(
    private readonly groups: readonly string[] = [],
    options: FakeSchedulerOptions = {},
  ) {
    this.mock = mockClient(options.everyClient ? SchedulerClient : this.client);
    this.mock.on(CreateScheduleCommand).callsFake(async (input: CreateScheduleCommandInput) => this.run('CreateSchedule', () => this.create(input)));
    this.mock.on(DeleteScheduleCommand).callsFake(async (input: DeleteScheduleCommandInput) => this.run('DeleteSchedule', () => this.delete(input)));
    this.mock.on(GetScheduleCommand).callsFake(async (input: GetScheduleCommandInput) => this.run('GetSchedule', () => this.get(input)));
  }

  /** The next call of `command` (e.g. `'CreateSchedule'`) fails with `error` instead. */
  failNext(command: string, error: Error): void {
    this.faults.push({ command, error });
  }

  schedule(group: string, name: string): CreateScheduleCommandInput | undefined {
    return this.schedules.get(`${group}/${name}`);
  }

  restore(): void {
    this.mock.restore();
    this.client.destroy();
  }

  private run(command: string, call: () => object): object {
    const fault = this.faults.findIndex((candidate) => candidate.command === command);
    if (fault >= 0) throw this.faults.splice(fault, 1)[0]!.error;
    return { $metadata: { httpStatusCode: 200 }, ...call() };
  }

  private key(groupName: string | undefined, name: string | undefined): string {
    const group = groupName ?? 'default';
    if (group !== 'default' && !this.groups.includes(group)) {
      throw new ResourceNotFoundException(fields(`Schedule group ${group} does not exist.`));
    }
    return `${group}/${name ?? ''}`;
  }

  private create(input: CreateScheduleCommandInput): object {
    if (!input.Name || !NAME.test(input.Name)) throw validation(`Invalid schedule name ${input.Name ?? ''}`);
    const expression = input.ScheduleExpression ?? '';
    if (!AT.test(expression) && !RATE_OR_CRON.test(expression)) throw validation(`Invalid Schedule Expression ${expression}.`);
    if (!input.FlexibleTimeWindow?.Mode) throw validation('FlexibleTimeWindow is required.');
    if (!input.Target?.Arn || !input.Target.RoleArn) throw validation('Target Arn and RoleArn are required.');
    const key = this.key(input.GroupName, input.Name);
    if (this.schedules.has(key)) throw new ConflictException(fields(`Schedule ${input.Name} already exists.`));
    this.schedules.set(key, input);
    return { ScheduleArn: `arn:aws:scheduler:us-east-1:111122223333:schedule/${key}` };
  }

  private delete(input: DeleteScheduleCommandInput): object {
    const key = this.key(input.GroupName, input.Name);
    if (!this.schedules.delete(key)) throw new ResourceNotFoundException(fields(`Schedule ${input.Name ?? ''} does not exist.`));
    return {};
  }

  private get(input: GetScheduleCommandInput): object {
    const schedule = this.schedules.get(this.key(input.GroupName, input.Name));
    if (!schedule) throw new ResourceNotFoundException(fields(`Schedule ${input.Name ?? ''} does not exist.`));
    return { ...schedule, GroupName: schedule.GroupName ?? 'default' };
  }
}
