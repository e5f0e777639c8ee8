/** @module Condition expressions as small named parts joined at the end, so each rule reads like prose. */
import type { Placeholders } from './placeholders.js';

/** A condition that renders itself with the request's placeholders. */
export type Condition = (placeholders: Placeholders) => string;

export type Comparator = '=' | '<>' | '<' | '<=' | '>' | '>=';

export const attributeExists =
  (attribute: string): Condition =>
  (p) =>
    `attribute_exists(${p.name(attribute)})`;

export const attributeNotExists =
  (attribute: string): Condition =>
  (p) =>
    `attribute_not_exists(${p.name(attribute)})`;

export const compare =
  (attribute: string, comparator: Comparator, value: unknown): Condition =>
  (p) =>
    `${p.name(attribute)} ${comparator} ${p.value(value)}`;

export const beginsWith =
  (attribute: string, prefix: string): Condition =>
  (p) =>
    `begins_with(${p.name(attribute)}, ${p.value(prefix)})`;

export const and =
  (...conditions: Condition[]): Condition =>
  (p) =>
    conditions.length === 1 ? (conditions[0] as Condition)(p) : conditions.map((c) => `(${c(p)})`).join(' AND ');

export const or =
  (...conditions: Condition[]): Condition =>
  (p) =>
    conditions.length === 1 ? (conditions[0] as Condition)(p) : conditions.map((c) => `(${c(p)})`).join(' OR ');

export const not =
  (condition: Condition): Condition =>
  (p) =>
    `NOT (${condition(p)})`;
