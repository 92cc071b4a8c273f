/**
 * Certificate policy processing, RFC 5280 §6.1.2 (a),(d),(e),(f) · §6.1.3 (d)–(f) · §6.1.4 (a),(b),(h)–(j) ·
 * §6.1.5 (a),(b),(g), with the RFC's default inputs: user-initial-policy-set = {anyPolicy},
 * initial-policy-mapping-inhibit, initial-explicit-policy and initial-any-policy-inhibit all false.
 *
 * Contract: pure and synchronous. The tree is kept level by level; its size is bounded by
 * POLICY_TREE_NODE_BUDGET (policy mappings can make it grow exponentially — CVE-2023-0464 in OpenSSL), and
 * exceeding it is fatal (`budget_exceeded`). Qualifiers are not tracked: with the default inputs they
 * never change the outcome.
 */
import type { ParsedCertificate } from "../cert/parse";
import { OID } from "../cert/parse";
import { POLICY_TREE_NODE_BUDGET } from "../limits";

interface Node {
  readonly policy: string;
  expected: Set<string>;
  readonly parent: Node | null;
}

export type PolicyOutcome =
  | { ok: true }
  | { ok: false; reason: "no_valid_policy" | "any_policy_mapped" | "budget"; depth: number };

/**
 * Runs policy processing over `path`, given from the certificate issued by the trust anchor (i = 1) to the
 * leaf (i = n), as in RFC 5280 §6.1.
 */
export function processPolicies(path: readonly ParsedCertificate[]): PolicyOutcome {
  const n = path.length;
  let explicitPolicy = n + 1;
  let inhibitAny = n + 1;
  let policyMapping = n + 1;
  const root: Node = { policy: OID.anyPolicy, expected: new Set([OID.anyPolicy]), parent: null };
  let level: Node[] | null = [root];
  let nodes = 1;

  for (let i = 1; i <= n; i++) {
    const cert = path[i - 1]!;
    const policies = cert.extensions.certificatePolicies;
    const isLeaf = i === n;
    // (d)
    if (policies && level) {
      const next: Node[] = [];
      const addChild = (parent: Node, policy: string): boolean => {
        if (++nodes > POLICY_TREE_NODE_BUDGET) return false;
        next.push({ policy, expected: new Set([policy]), parent });
        return true;
      };
      for (const p of policies) {
        if (p === OID.anyPolicy) continue;
        let matched = false;
        for (const node of level) {
          if (node.expected.has(p)) {
            if (!addChild(node, p)) return { ok: false, reason: "budget", depth: i };
            matched = true;
          }
        }
        if (!matched) {
          for (const node of level) {
            if (node.policy === OID.anyPolicy && !addChild(node, p)) return { ok: false, reason: "budget", depth: i };
          }
        }
      }
      // (d)(2)
      if (policies.includes(OID.anyPolicy) && (inhibitAny > 0 || (i < n && cert.selfIssued))) {
        for (const node of level) {
          const existing = new Set(next.filter((c) => c.parent === node).map((c) => c.policy));
          for (const e of node.expected) {
            if (!existing.has(e) && !addChild(node, e)) return { ok: false, reason: "budget", depth: i };
          }
        }
      }
      // (d)(3): childless nodes above depth i are pruned; all later steps look only at depth i, so the
      // tree is NULL exactly when depth i is empty.
      level = next.length > 0 ? next : null;
    } else if (!policies) {
      // (e)
      level = null;
    }
    // (f)
    if (explicitPolicy <= 0 && level === null) return { ok: false, reason: "no_valid_policy", depth: i };

    if (!isLeaf) {
      // §6.1.4 (a),(b): policy mappings.
      const mappings = cert.extensions.policyMappings;
      if (mappings && mappings.length > 0) {
        for (const [from, to] of mappings) {
          if (from === OID.anyPolicy || to === OID.anyPolicy) return { ok: false, reason: "any_policy_mapped", depth: i };
        }
        if (level) {
          const bySource = new Map<string, Set<string>>();
          for (const [from, to] of mappings) {
            let s = bySource.get(from);
            if (!s) bySource.set(from, (s = new Set()));
            s.add(to);
          }
          if (policyMapping > 0) {
            const anyNode = level.find((x) => x.policy === OID.anyPolicy);
            for (const [from, targets] of bySource) {
              const hits = level.filter((x) => x.policy === from);
              if (hits.length > 0) {
                for (const h of hits) h.expected = new Set(targets);
              } else if (anyNode && anyNode.parent) {
                if (++nodes > POLICY_TREE_NODE_BUDGET) return { ok: false, reason: "budget", depth: i };
                level.push({ policy: from, expected: new Set(targets), parent: anyNode.parent });
              }
            }
          } else {
            const kept: Node[] = level.filter((x) => !bySource.has(x.policy));
            level = kept.length > 0 ? kept : null;
          }
        }
      }
      // (h)
      if (!cert.selfIssued) {
        if (explicitPolicy > 0) explicitPolicy--;
        if (policyMapping > 0) policyMapping--;
        if (inhibitAny > 0) inhibitAny--;
      }
      // (i)
      const pc = cert.extensions.policyConstraints;
      if (pc) {
        if (pc.requireExplicitPolicy !== null && pc.requireExplicitPolicy < explicitPolicy) explicitPolicy = pc.requireExplicitPolicy;
        if (pc.inhibitPolicyMapping !== null && pc.inhibitPolicyMapping < policyMapping) policyMapping = pc.inhibitPolicyMapping;
      }
      // (j)
      const ia = cert.extensions.inhibitAnyPolicy;
      if (ia !== undefined && ia < inhibitAny) inhibitAny = ia;
    } else {
      // §6.1.5 (a),(b)
      if (explicitPolicy > 0) explicitPolicy--;
      if (cert.extensions.policyConstraints?.requireExplicitPolicy === 0) explicitPolicy = 0;
    }
  }
  // §6.1.5 (g): with user-initial-policy-set = {anyPolicy} the intersection is the tree itself.
  if (explicitPolicy > 0 || level !== null) return { ok: true };
  return { ok: false, reason: "no_valid_policy", depth: n };
}
