from crmcli.launch import main

main()
