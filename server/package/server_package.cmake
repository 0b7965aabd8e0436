# cir-server as an operator installs it (component `server`, the Debian package cir-server): the
# server and cir-admin, a systemd unit running it as its own user `cir`, its settings in
# /etc/cir/cir-server.conf (the package's conffile), and the maintainer scripts that make the
# user, the keys and an empty store (postinst) and stop the service on removal (prerm, postrm).
#
#   cmake --install build --component server
#
# The paths an operator expects are fixed here, whatever the install prefix: /etc/cir for the
# settings, keys and TLS files, /var/lib/cir for the store, /var/backups/cir for its backups.
install(TARGETS cir-server cir-admin RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT server)
install(FILES server/package/cir-server.service DESTINATION /lib/systemd/system COMPONENT server)
install(FILES server/package/cir-server.conf DESTINATION /etc/cir COMPONENT server)
