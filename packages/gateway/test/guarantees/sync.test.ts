// The portable guarantee suite's sync area, run by a ZooKeeper-protocol client over the gateway.
import { describeSyncGuarantees } from '@faaskeeper/core/testkit';
import { wireGatewayTarget } from '../support/wire-client-target.js';

describeSyncGuarantees(wireGatewayTarget);
