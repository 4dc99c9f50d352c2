import './base.css';
import './builds.css';
import './dialogs.css';
import './details.css';
