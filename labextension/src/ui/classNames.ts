/**
 * The class names that are given, joined with spaces (empty and false ones left
 * out). Not `classes` of `@jupyterlab/ui-components`: that package is an ES module
 * the jest specs (node, no DOM) cannot load, and the forms they test use this.
 */
export function classNames(
  ...names: ReadonlyArray<string | false | null | undefined>
): string {
  return names.filter(Boolean).join(' ');
}
