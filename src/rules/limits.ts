/** @module DynamoDB's published input limits, each with the page that states it: the one place racesafe takes them from. */

/** The developer guide pages the rules cite. */
export const documentation = {
  constraints: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html',
  dataTypes: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html',
  itemSizes: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html',
  transactions: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html',
} as const;

/**
 * "The maximum item size in DynamoDB is 400 KB, which includes both attribute name binary length (UTF-8 length) and
 * attribute value lengths" (Constraints, Items; 1 KB = 1024 bytes).
 */
export const maxItemBytes = 400 * 1024;

/**
 * "Attribute names must be at least one character long and less than 64 KB in size" (Naming rules): at most 65,535
 * bytes. The 255-character limit on the same page is only for secondary index key names and LSI projected attributes.
 */
export const documentedMaxAttributeNameBytes = 64 * 1024 - 1;
/**
 * The longest attribute name racesafe sends: 50,000 bytes (UTF-8), below the documented 65,535 because DynamoDB Local
 * 3.3.1 (probed with ASCII, 2-, 3- and 4-byte characters, in items, nested maps, update placeholders and conditions)
 * stores and reads back names of up to exactly 50,000 bytes, but between 50,001 and 65,535: PutItem fails with HTTP
 * 500, and UpdateItem through a placeholder is accepted yet leaves an item that every GetItem then answers with HTTP
 * 500. Placeholders and conditions take names up to 65,535 bytes ("Attribute name is too large, must be less than
 * 65536" above), so no engine racesafe tests on agrees with the documented limit past 50,000. dynalite has no limit.
 */
export const maxAttributeNameBytes = 50_000;

/** "The minimum length of a partition key value is 1 byte. The maximum length is 2048 bytes" (Constraints, Partition keys). */
export const maxPartitionKeyBytes = 2048;

/** "The minimum length of a sort key value is 1 byte. The maximum length is 1024 bytes" (Constraints, Sort keys). */
export const maxSortKeyBytes = 1024;

/**
 * "DynamoDB supports nested attributes up to 32 levels deep" (Constraints, Attributes), the item itself being the first
 * level: an attribute holds at most 31 maps or lists one inside the other (DynamoDB Local refuses the 32nd with
 * "Nesting Levels have exceeded supported limits").
 */
export const maxNestingLevels = 32;

/** "Numbers can have up to 38 digits of precision" (Data types, Number). */
export const maxNumberDigits = 38;

/** "Positive range: 1E-130 to 9.9999999999999999999999999999999999999E+125", the negative range its mirror (Data types). */
export const minNumberExponent = -130;
export const maxNumberExponent = 125;

/** "The maximum length of any expression string is 4 KB" (Constraints, Expression parameters). */
export const maxExpressionBytes = 4 * 1024;

/** "A transaction cannot contain more than 100 unique items" and "cannot ... target the same item" twice (Transactions). */
export const maxTransactionActions = 100;
