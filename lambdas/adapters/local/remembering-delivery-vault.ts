// Adapter (local engine): the delivery vault, remembering what this process last delivered to each
// secret, so that proving a credential dead does not read back the delivery it wrote (the probe
// needs the credential, and the engine keeps it nowhere else). Only the engine writes deliveries,
// and in the local engine every function shares this process, so what it remembers is what the
// secret holds. It is memory only: nothing is written to disk, a restart forgets it all (the probe
// then reads the delivery), and it is forgotten when the delivery is destroyed. The credentials it
// holds are ones this process minted and wrote out; holding them longer grants it nothing new.
import type { Delivery, DoneAheadOfDelivery, DeliveryAddress, DeliveryPayload, DeliveryVault } from '../../ports';
import { LastWritten } from './last-written';

/** Enough for every live delivery of a busy local engine; past it, the oldest costs a read again. */
export const REMEMBERED_DELIVERIES = 10_000;

export class RememberingDeliveryVault implements DeliveryVault {
  private readonly deliveries: LastWritten<DeliveryPayload>;
  readonly prepare?: (address: DeliveryAddress) => Promise<void>;
  readonly stage?: (delivery: Delivery) => Promise<boolean>;
  readonly readMany?: (names: readonly string[]) => Promise<ReadonlyMap<string, DeliveryPayload | undefined>>;

  constructor(
    private readonly vault: DeliveryVault,
    capacity = REMEMBERED_DELIVERIES,
  ) {
    this.deliveries = new LastWritten(capacity);
    const prepare = vault.prepare?.bind(vault);
    if (prepare) this.prepare = prepare;
    const stage = vault.stage?.bind(vault);
    if (stage) this.stage = (delivery) => this.stageThrough(stage, delivery);
    const readMany = vault.readMany?.bind(vault);
    if (readMany) this.readMany = (names) => this.readManyThrough(readMany, names);
  }

  /** What is remembered, and the rest in one batch of the vault's. */
  private async readManyThrough(
    readMany: NonNullable<DeliveryVault['readMany']>,
    names: readonly string[],
  ): Promise<ReadonlyMap<string, DeliveryPayload | undefined>> {
    const answered = new Map<string, DeliveryPayload | undefined>();
    const unknown: string[] = [];
    for (const name of names) {
      const payload = this.deliveries.recall(name);
      if (payload) answered.set(name, payload);
      else unknown.push(name);
    }
    if (unknown.length > 0) for (const [name, payload] of await readMany(unknown)) answered.set(name, payload);
    return answered;
  }

  /** Remembered once staged: a runtime may read it before its lock here (no principals locally), and end its task. */
  private async stageThrough(stage: NonNullable<DeliveryVault['stage']>, delivery: Delivery): Promise<boolean> {
    let created: boolean;
    try {
      created = await stage(delivery);
    } catch (error) {
      // The value may or may not have been written: the secret is the only one to say which.
      this.deliveries.forget(delivery.name);
      throw error;
    }
    if (created) this.deliveries.remember(delivery.name, delivery.payload);
    return created;
  }

  async deliver(delivery: Delivery, ahead?: DoneAheadOfDelivery): Promise<void> {
    try {
      await this.vault.deliver(delivery, ahead);
    } catch (error) {
      // The value may or may not have been written: the secret is the only one to say which.
      this.deliveries.forget(delivery.name);
      throw error;
    }
    this.deliveries.remember(delivery.name, delivery.payload);
  }

  async read(name: string): Promise<DeliveryPayload | undefined> {
    return this.deliveries.recall(name) ?? this.vault.read(name);
  }

  async destroy(name: string): Promise<void> {
    this.deliveries.forget(name);
    await this.vault.destroy(name);
  }

  listDeliveries(): AsyncIterable<{ readonly name: string; readonly grantId?: string }> {
    return this.vault.listDeliveries();
  }
}
