// Adapter (AWS IAM): how many characters the revoked-sessions deny may use on an agent role.
// IAM caps a role's inline policies at 10,240 characters together (white space not counted),
// so whatever other inline policy the role carries comes off the deny's share.
import { GetRolePolicyCommand, NoSuchEntityException, paginateListRolePolicies, type IAMClient } from '@aws-sdk/client-iam';
import type { Clock } from '../../ports';
import { ROLE_INLINE_POLICY_MAX_CHARS } from './sts-session-issuer';
import { REVOKED_BEFORE_POLICY_NAME } from './revoked-before-policy';

/** A measured budget is reused this long: a deployer edits agent roles rarely. */
const MEASUREMENT_TTL_MS = 15 * 60_000;

/** IAM counts a policy's size without white space; URL-decoded documents are what GetRolePolicy returns. */
const sizeOf = (document: string) => decodeURIComponent(document).replace(/\s/g, '').length;

/**
 * Measures each role's budget from its other inline policies (ListRolePolicies, then one
 * GetRolePolicy per other policy), once per role per 15 minutes per container.
 */
export class RoleInlinePolicyBudget {
  private readonly measured = new Map<string, { readonly chars: number; readonly at: number }>();

  constructor(
    private readonly iam: IAMClient,
    private readonly clock: Clock,
    /** The deny's own policy name: it does not count against itself. */
    private readonly ownPolicyName: string,
  ) {}

  async of(roleName: string): Promise<number> {
    const now = this.clock.now().getTime();
    const known = this.measured.get(roleName);
    if (known && now - known.at < MEASUREMENT_TTL_MS) return known.chars;
    const chars = ROLE_INLINE_POLICY_MAX_CHARS - (await this.othersSize(roleName));
    this.measured.set(roleName, { chars, at: now });
    return chars;
  }

  private async othersSize(roleName: string): Promise<number> {
    let used = 0;
    try {
      for await (const page of paginateListRolePolicies({ client: this.iam }, { RoleName: roleName })) {
        for (const policyName of page.PolicyNames ?? []) {
          // The kill switch's deny is not measured: the issuer reserves its share (REVOKED_BEFORE_RESERVED_CHARS).
          if (policyName === this.ownPolicyName || policyName === REVOKED_BEFORE_POLICY_NAME) continue;
          const { PolicyDocument } = await this.iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }));
          used += sizeOf(PolicyDocument ?? '');
        }
      }
    } catch (error) {
      // No such role: its sessions cannot exist, and writing the deny will say so.
      if (!(error instanceof NoSuchEntityException)) throw error;
    }
    return used;
  }
}
