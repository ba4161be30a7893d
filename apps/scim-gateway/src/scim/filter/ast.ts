// The filter AST of RFC 7644 §3.4.2.2, shared by the SQL compiler, the in-memory evaluator and PATCH paths.

export type CompareOperator = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type FilterValue = string | number | boolean | null;

/** An attribute path as written: `[uri:]attribute[.subAttribute]`. Names keep the client's spelling. */
export interface AttributePath {
  uri?: string;
  attribute: string;
  subAttribute?: string;
}

export type Filter =
  | { kind: 'compare'; path: AttributePath; op: CompareOperator; value: FilterValue }
  | { kind: 'present'; path: AttributePath }
  | { kind: 'and'; filters: Filter[] }
  | { kind: 'or'; filters: Filter[] }
  | { kind: 'not'; filter: Filter }
  /** `emails[type eq "work" and primary eq true]`: paths inside `filter` are relative to one value of `path`. */
  | { kind: 'valuePath'; path: AttributePath; filter: Filter };

/** A PATCH path (RFC 7644 §3.5.2): `attrPath`, `attrPath[valFilter]` or `attrPath[valFilter].subAttr`. */
export interface PatchPath {
  path: AttributePath;
  valueFilter?: Filter;
  /** Only with valueFilter: the sub-attribute after the closing bracket. */
  subAttribute?: string;
}
