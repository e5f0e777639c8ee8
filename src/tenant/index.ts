/** @module `racesafe/tenant`: tenant-scoped tables, tenant-isolated Lambda handlers, per-tenant credentials, IAM policies. */
export type { PolicyDocument, PolicyStatement, TenantPolicies, TenantPolicyOptions } from './policy.js';
export { leadingKeyStatements, tenantItemActions, tenantPolicies, tenantSessionPolicy } from './policy.js';
export type { TenantScopeMark, TenantScopeOptions } from './scope.js';
export { tenantOf, tenantScope } from './scope.js';
export type { TenantKeyCodec, TenantKeyOptions } from './tenant-id.js';
export { checkTenantId, tenantIdPattern, tenantKeyCodec, tenantPrefix } from './tenant-id.js';
