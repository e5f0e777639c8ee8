/** @module `racesafe/tenant`: tenant-scoped tables, tenant-isolated Lambda handlers, per-tenant credentials, IAM policies. */
export type { TenantAssumeRoleParams, TenantClients, TenantClientsOptions } from './credentials.js';
export { buildAssumeRoleParams, refreshingCredentials, tenantClients } from './credentials.js';
export type { KeyedLogger, TenantHandlerOptions, TenantInvocation } from './handler.js';
export { tenantHandler } from './handler.js';
export type { PolicyDocument, PolicyStatement, TenantPolicies, TenantPolicyOptions } from './policy.js';
export { leadingKeyStatements, tenantItemActions, tenantPolicies, tenantSessionPolicy } from './policy.js';
export type { TenantScopeMark, TenantScopeOptions } from './scope.js';
export { tenantOf, tenantScope } from './scope.js';
export type { TenantKeyCodec, TenantKeyOptions } from './tenant-id.js';
export { checkTenantId, tenantIdPattern, tenantKeyCodec, tenantPrefix } from './tenant-id.js';
