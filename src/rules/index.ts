/** @module DynamoDB's input rules, each citing the service documentation, and racesafe's checks built on them. */
export { checkExpressionSizes, type ExpressionFields } from './expressions.js';
export { checkedKey, checkItem, checkSize, reservedNameRule } from './items.js';
export { type KeyType, keyTypeOf, keyValueIdentity, keyValueRule } from './keys.js';
export * from './limits.js';
export { attributeNameRule } from './names.js';
export { canonicalNumber, isNumberLike, numberRule, numberSize, type StorableNumber } from './numbers.js';
export {
  checkDistinctRoles,
  checkOptionValues,
  type OptionRule,
  type OptionRules,
  optionNames,
  optionRules,
} from './options.js';
export { compareUtf8, compareVersions, type Version } from './order.js';
export { isWellFormed, utf8Length } from './strings.js';
export { skipsUndefined, storedValueSize, type ValueRules } from './values.js';
