/**
 * Typed builders for Terraform's JSON configuration syntax (`*.tf.json`): what `terraform` reads
 * exactly as it reads HCL. Plain data, so tests inspect the configuration without Terraform.
 */

/** A value in a Terraform JSON configuration (strings may hold `${...}` interpolations). */
export type TfValue =
  | string
  | number
  | boolean
  | null
  | readonly TfValue[]
  | { readonly [key: string]: TfValue };

/** The body of a resource, data source or nested block. */
export type TfBody = { readonly [key: string]: TfValue };

/** A Terraform JSON configuration file. */
export interface TerraformJson {
  /** A comment (Terraform ignores the `//` property). */
  '//'?: string;
  terraform: TfBody;
  provider: Record<string, TfBody>;
  data: Record<string, Record<string, TfBody>>;
  resource: Record<string, Record<string, TfBody>>;
  output: Record<string, { value: TfValue; description: string; sensitive?: boolean }>;
  /** Input variables (set through `TF_VAR_<name>`), present only when the configuration has some. */
  variable?: Record<string, TfVariable>;
}

/** An input variable's declaration. */
export interface TfVariable {
  type: string;
  description: string;
  /** Terraform masks the value in plans and output (the state still holds it). */
  sensitive?: boolean;
  nullable?: boolean;
}

/** A resource or data source of the configuration, to refer to its attributes. */
export class TfRef {
  constructor(
    /** `google_pubsub_topic`, or `data.google_project` for a data source. */
    readonly type: string,
    readonly name: string,
  ) {}

  /** The Terraform address: `google_pubsub_topic.writer`. */
  get address(): string {
    return `${this.type}.${this.name}`;
  }

  /** An interpolation of one attribute: `${google_pubsub_topic.writer.id}`. */
  attr(path: string): string {
    return `\${${this.address}.${path}}`;
  }
}

/** Builds a {@link TerraformJson}; a name used twice for one type is an error (Terraform's too). */
export class TerraformBuilder {
  readonly json: TerraformJson;

  constructor(terraform: TfBody, provider: Record<string, TfBody>, comment?: string) {
    this.json = {
      ...(comment === undefined ? {} : { '//': comment }),
      terraform,
      provider,
      data: {},
      resource: {},
      output: {},
    };
  }

  /** Adds a resource. */
  resource(type: string, name: string, body: TfBody): TfRef {
    const group = this.json.resource[type] ?? {};
    if (group[name] !== undefined) throw new Error(`resource ${type}.${name} is defined twice`);
    group[name] = body;
    this.json.resource[type] = group;
    return new TfRef(type, name);
  }

  /** Adds a data source. */
  data(type: string, name: string, body: TfBody): TfRef {
    const group = this.json.data[type] ?? {};
    if (group[name] !== undefined) throw new Error(`data source ${type}.${name} is defined twice`);
    group[name] = body;
    this.json.data[type] = group;
    return new TfRef(`data.${type}`, name);
  }

  /** Declares an input variable; its interpolation is `${var.<name>}`. */
  variable(name: string, declaration: TfVariable): string {
    const variables = this.json.variable ?? {};
    if (variables[name] !== undefined) throw new Error(`variable ${name} is declared twice`);
    variables[name] = declaration;
    this.json.variable = variables;
    return `\${var.${name}}`;
  }

  /** Adds an output. */
  output(name: string, value: TfValue, description: string): void {
    this.json.output[name] = { value, description };
  }
}
