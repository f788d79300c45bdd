/**
 * What a ZooKeeper ensemble costs to keep running: dated on-demand list prices of the VMs the
 * comparison uses (3, 5 and 9 of each), and of the disk each VM boots from.
 */

/** One VM size of a provider, at its hourly on-demand price. */
export interface VmPrice {
  /** The provider's name of the machine type. */
  readonly name: string;
  readonly vcpus: number;
  readonly memoryGiB: number;
  /** USD per hour, on-demand, Linux. */
  readonly hourly: number;
}

/** A provider's VM sizes and the disk priced with each VM. */
export interface EnsemblePrices {
  /** The day these list prices were recorded. */
  readonly asOf: string;
  readonly region: string;
  /** Smallest first: the chart compares against 3 of the first. */
  readonly vms: readonly VmPrice[];
  /** The boot volume each VM has, priced per GB-month. */
  readonly disk: { readonly kind: string; readonly gb: number; readonly perGbMonth: number };
  /** Where the figures come from. */
  readonly source: string;
}

/** Ensemble sizes of the comparison: ZooKeeper needs a majority, so 3, 5 or 9 servers. */
export const ENSEMBLE_SIZES = [3, 5, 9] as const;

/** Hours in a day and days in an average month (365/12), as every figure here uses them. */
export const HOURS_PER_DAY = 24;
export const DAYS_PER_MONTH = 365 / 12;

/**
 * EC2 on-demand Linux, us-east-1 (the t3 rates have not changed since the family launched in 2018),
 * and an 8 GB gp3 root volume per VM (the default of Amazon Linux AMIs) at $0.08 per GB-month.
 */
export const AWS_ENSEMBLE_PRICES: EnsemblePrices = {
  asOf: '2026-12-04',
  region: 'us-east-1',
  vms: [
    { name: 't3.small', vcpus: 2, memoryGiB: 2, hourly: 0.0208 },
    { name: 't3.medium', vcpus: 2, memoryGiB: 4, hourly: 0.0416 },
    { name: 't3.large', vcpus: 2, memoryGiB: 8, hourly: 0.0832 },
  ],
  disk: { kind: 'gp3', gb: 8, perGbMonth: 0.08 },
  source: 'https://aws.amazon.com/ec2/pricing/on-demand/ and https://aws.amazon.com/ebs/pricing/',
};

/**
 * Compute Engine on-demand, us-central1, the e2 sizes nearest to the t3 ones, and a 10 GB balanced
 * persistent disk per VM (the default boot disk) at $0.10 per GB-month.
 */
export const GCP_ENSEMBLE_PRICES: EnsemblePrices = {
  asOf: '2026-12-04',
  region: 'us-central1',
  vms: [
    { name: 'e2-small', vcpus: 2, memoryGiB: 2, hourly: 0.016751 },
    { name: 'e2-medium', vcpus: 2, memoryGiB: 4, hourly: 0.033503 },
    { name: 'e2-standard-2', vcpus: 2, memoryGiB: 8, hourly: 0.067006 },
  ],
  disk: { kind: 'pd-balanced', gb: 10, perGbMonth: 0.1 },
  source:
    'https://cloud.google.com/compute/vm-instance-pricing and https://cloud.google.com/compute/disks-image-pricing',
};

/** The ensemble prices of a provider. */
export function ensemblePrices(provider: 'aws' | 'gcp'): EnsemblePrices {
  return provider === 'aws' ? AWS_ENSEMBLE_PRICES : GCP_ENSEMBLE_PRICES;
}

/** USD per day of `count` VMs of `vm`, each with the provider's boot disk. */
export function ensemblePerDay(prices: EnsemblePrices, vm: VmPrice, count: number): number {
  const diskPerDay = (prices.disk.gb * prices.disk.perGbMonth) / DAYS_PER_MONTH;
  return count * (vm.hourly * HOURS_PER_DAY + diskPerDay);
}
