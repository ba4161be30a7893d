import { startTestGateway } from './support/gateway.ts';
const gw = await startTestGateway();
await gw.roster.services.settings.update({ usersDeletableByAdmins: true }, gw.adminId);
console.log(JSON.stringify({ url: gw.url, token: gw.token }));
