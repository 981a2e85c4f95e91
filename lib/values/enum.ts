/**
 * The generated imports type closed string sets as TypeScript enums; this maps a value already
 * validated against the same set (by the config schema) onto the enum member.
 */
export function toEnum<E extends Record<string, string>>(enumObject: E, value: string): E[keyof E] {
  const member = (Object.values(enumObject) as string[]).find((v) => v === value);
  if (member === undefined) throw new Error(`'${value}' is not one of ${Object.values(enumObject).join(', ')}`);
  return member as E[keyof E];
}
