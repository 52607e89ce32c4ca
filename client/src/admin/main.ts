/** Entry of the admin pages (client/admin.html, served at /admin). */
import { AdminApp } from './AdminApp';

const root = document.getElementById('admin') as HTMLElement;
const banner = document.getElementById('banner') as HTMLElement;
const status = document.getElementById('status') as HTMLElement;
void new AdminApp(root, banner, status).start();
