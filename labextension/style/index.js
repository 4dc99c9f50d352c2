import './base.css';
import './builds.css';
